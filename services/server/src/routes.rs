//! StanceService with CompareStances answered as a [`StanceAnswer`] (encoded from the store's
//! rows, see `answer.rs`) instead of the generated `pb::CompareStancesResponse`; every other
//! method goes to the generated server. The route is the generated one's, with the same
//! message size limits and no compression (the generated server's default).

use std::convert::Infallible;
use std::task::{Context, Poll};

use communique_proto::v1 as pb;
use communique_proto::v1::stance_service_server::StanceServiceServer;
use prost::Message;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::{Body, BoxFuture, Service, StdError, http};
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::{Request, Response, Status};

use crate::Api;
use crate::answer::StanceAnswer;

const COMPARE_STANCES: &str = "/communique.v1.StanceService/CompareStances";

#[derive(Clone)]
pub struct StanceRoutes {
    api: Api,
    generated: StanceServiceServer<Api>,
    max_message_bytes: usize,
}

impl StanceRoutes {
    pub fn new(api: Api, max_message_bytes: usize) -> StanceRoutes {
        StanceRoutes {
            generated: StanceServiceServer::new(api.clone())
                .max_decoding_message_size(max_message_bytes)
                .max_encoding_message_size(max_message_bytes),
            api,
            max_message_bytes,
        }
    }
}

impl NamedService for StanceRoutes {
    const NAME: &'static str = <StanceServiceServer<Api> as NamedService>::NAME;
}

impl<B> Service<http::Request<B>> for StanceRoutes
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != COMPARE_STANCES {
            return self.generated.call(request);
        }
        let method = CompareStances(self.api.clone());
        let limit = Some(self.max_message_bytes);
        Box::pin(async move {
            let mut grpc = Grpc::new(AnswerCodec).apply_max_message_size_config(limit, limit);
            Ok(grpc.unary(method, request).await)
        })
    }
}

struct CompareStances(Api);

impl UnaryService<pb::CompareStancesRequest> for CompareStances {
    type Response = StanceAnswer;
    type Future = BoxFuture<Response<StanceAnswer>, Status>;

    fn call(&mut self, request: Request<pb::CompareStancesRequest>) -> Self::Future {
        let api = self.0.clone();
        Box::pin(async move { api.stance_answer(request).await })
    }
}

/// Requests decoded as the generated codec decodes them; answers encoded into a buffer
/// reserved at their size, so that a 20 KB answer is not copied as the buffer grows.
#[derive(Clone, Copy, Debug, Default)]
struct AnswerCodec;

impl Codec for AnswerCodec {
    type Encode = StanceAnswer;
    type Decode = pb::CompareStancesRequest;
    type Encoder = AnswerCodec;
    type Decoder = AnswerCodec;

    fn encoder(&mut self) -> AnswerCodec {
        AnswerCodec
    }

    fn decoder(&mut self) -> AnswerCodec {
        AnswerCodec
    }
}

impl Encoder for AnswerCodec {
    type Item = StanceAnswer;
    type Error = Status;

    fn encode(&mut self, item: StanceAnswer, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.reserve(item.encoded_len());
        item.encode(buf)
            .map_err(|error| Status::internal(format!("cannot encode the answer: {error}")))
    }
}

impl Decoder for AnswerCodec {
    type Item = pb::CompareStancesRequest;
    type Error = Status;

    fn decode(
        &mut self,
        buf: &mut DecodeBuf<'_>,
    ) -> Result<Option<pb::CompareStancesRequest>, Status> {
        // As tonic-prost's decoder: a malformed message is INTERNAL.
        Message::decode(buf)
            .map(Some)
            .map_err(|error| Status::internal(error.to_string()))
    }
}
